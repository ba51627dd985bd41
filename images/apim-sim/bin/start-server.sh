#!/bin/sh
# bin/api-cp.sh, bin/gateway.sh or bin/traffic-manager.sh of a 4.5/4.7 stand-in image: the Dockerfile
# installs this file under the name of the image's distribution, as each product distribution has
# its own script. Like product-apim 4.5.0's scripts it passes -DworkerNode=false before the
# arguments ([system.parameter] workerNode in deployment.toml still wins: sim/src/config.ts).
# JVM_MEM_OPTS and JAVA_OPTS mean nothing to Node and are ignored.
case "$(basename "$0")" in
  api-cp.sh) distribution=acp ;;
  gateway.sh) distribution=universal-gw ;;
  traffic-manager.sh) distribution=tm ;;
  *) echo "$0 is not the start script of a 4.5+ distribution (api-cp.sh, gateway.sh, traffic-manager.sh)" >&2; exit 1 ;;
esac
# `<script>.sh stop`, as the product's scripts: SIGTERM to the server named in wso2carbon.pid
# (written at each start, so one left by an earlier run is replaced before the server runs).
pid_file="$WSO2_SERVER_HOME/wso2carbon.pid"
if [ "${1:-}" = stop ]; then
  [ -f "$pid_file" ] || { echo "$(basename "$0") stop: no $pid_file" >&2; exit 1; }
  echo "$(basename "$0") stop: SIGTERM to the server (pid $(cat "$pid_file"))"
  kill -TERM "$(cat "$pid_file")" 2>/dev/null
  exit 0
fi
echo $$ > "$pid_file"
exec node --max-old-space-size=192 "$WSO2_SERVER_HOME/bin/sim.js" "-Dcarbon-labs.distribution=$distribution" -DworkerNode=false "$@"
