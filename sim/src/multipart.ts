import busboy from 'busboy';
import { Readable } from 'stream';

/**
 * The fields of a `multipart/form-data` body, by name, as text: form fields as sent, file parts as
 * their content (the definitions and policies the REST APIs take this way are text). What the
 * product's JAX-RS binds to an operation's `@Multipart` parameters.
 */
export function formFields(contentType: string, body: string): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    let parser: busboy.Busboy;
    try {
      // Definitions and policies can be large: up to 50 MB a part, and a truncated one refused.
      parser = busboy({ headers: { 'content-type': contentType }, limits: { fieldSize: 50 * 1024 * 1024, fileSize: 50 * 1024 * 1024 } });
    } catch (err) {
      reject(err);
      return;
    }
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) parser.destroy(new Error(`form field ${name} is larger than 50 MB`));
      fields[name] = value;
    });
    parser.on('file', (name, stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => parser.destroy(new Error(`form part ${name} is larger than 50 MB`)));
      stream.on('end', () => {
        fields[name] = Buffer.concat(chunks).toString('utf8');
      });
    });
    parser.on('error', reject);
    parser.on('close', () => resolve(fields));
    Readable.from([Buffer.from(body, 'utf8')]).pipe(parser);
  });
}
