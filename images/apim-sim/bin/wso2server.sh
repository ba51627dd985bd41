#!/bin/sh
# bin/wso2server.sh of the classic stand-in (APIM 2.6.0): like product-apim v2.6.0's script it
# passes -DworkerNode=false before the arguments it was given (`Bootstrap $*`), so the container's
# -DworkerNode=true and -Dprofile=… win, as Carbon's launcher sets each -D argument in turn.
# `--optimize` (profileSetup.sh's webapp removal) changes nothing the stand-in serves.
# JVM_MEM_OPTS and JAVA_OPTS mean nothing to Node and are ignored.
args=
for a in "$@"; do [ "$a" = --optimize ] || args="$args $a"; done
echo $$ > "$WSO2_SERVER_HOME/wso2carbon.pid"
# shellcheck disable=SC2086
exec node --max-old-space-size=192 "$WSO2_SERVER_HOME/bin/sim.js" -Dcarbon-labs.distribution=classic -DworkerNode=false $args
