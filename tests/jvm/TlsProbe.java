import java.io.InputStream;
import java.net.URL;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLException;

/**
 * A JVM TLS client as the product's own: the default HttpsURLConnection, trust from
 * -Djavax.net.ssl.trustStore. Host names are verified unless -Dhttpclient.hostnameVerifier=AllowAll
 * (what api-manager.sh sets for the product's HTTP clients). Exit 0 on 200, 2 on a TLS failure.
 */
public final class TlsProbe {
    public static void main(String[] args) throws Exception {
        HttpsURLConnection connection = (HttpsURLConnection) new URL(args[0]).openConnection();
        if ("AllowAll".equals(System.getProperty("httpclient.hostnameVerifier"))) {
            connection.setHostnameVerifier((host, session) -> true);
        }
        connection.setConnectTimeout(5000);
        connection.setReadTimeout(5000);
        try {
            int status = connection.getResponseCode();
            try (InputStream body = connection.getInputStream()) {
                System.out.println("HTTP " + status + " " + new String(body.readAllBytes(), "UTF-8"));
            }
            System.exit(status == 200 ? 0 : 3);
        } catch (SSLException e) {
            System.out.println("TLS " + e);
            System.exit(2);
        }
    }
}
