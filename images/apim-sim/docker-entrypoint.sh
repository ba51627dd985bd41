#!/bin/sh
# Same contract as docker-apim's entrypoints (v4.3.0.6 wso2am; v4.5.0.9 and v4.7.0.1 wso2am-acp,
# wso2am-universal-gw, wso2am-tm): overlay the mounted config and artifact volumes onto the product
# home, then start the server: the all-in-one image with the profile named by PROFILE_NAME, a 4.5+
# distribution with its own start script; a 4.7 one stops the server on SIGTERM.
set -e
# The image's distribution, written here by its Dockerfile (WSO2_DISTRIBUTION).
distribution=all-in-one
config_volume=/home/wso2carbon/wso2-config-volume
artifact_volume=/home/wso2carbon/wso2-artifact-volume
# Of the 4.5 entrypoints only the ACP's reads a variable: PROFILE_NAME=key-manager starts its
# key-manager profile, a node the stand-in does not model. Any other value is ignored there, and
# PROFILE_NAME is ignored by the gateway and traffic manager images, as by the product's.
if [ "$distribution" = acp ] && [ "${PROFILE_NAME:-}" = key-manager ]; then
  echo "[$(date -u +%Y-%m-%dT%H:%M:%SZ)] ERROR {docker-entrypoint} - PROFILE_NAME=key-manager: the carbon-labs stand-in does not model the API Control Plane's key-manager profile; unset PROFILE_NAME to run the control plane" >&2
  exit 1
fi
# The classic image (docker-apim v2.6.0.22's entrypoint): an empty synapse-configs (a new volume
# mounted over it) gets the image's defaults back first.
if [ "$distribution" = classic ] && [ -z "$(ls -A "$WSO2_SERVER_HOME/repository/deployment/server/synapse-configs" 2>/dev/null)" ]; then
  cp -R /home/wso2carbon/wso2-tmp/synapse-configs/* "$WSO2_SERVER_HOME/repository/deployment/server/synapse-configs/"
fi
[ -d "$config_volume" ] && [ -n "$(ls -A "$config_volume" 2>/dev/null)" ] && cp -RL "$config_volume"/* "$WSO2_SERVER_HOME"/
[ -d "$artifact_volume" ] && [ -n "$(ls -A "$artifact_volume" 2>/dev/null)" ] && cp -RL "$artifact_volume"/* "$WSO2_SERVER_HOME"/
# The start script of a distribution image (the all-in-one runs its server directly).
case "$distribution" in
  acp) script="$WSO2_SERVER_HOME/bin/api-cp.sh" ;;
  universal-gw) script="$WSO2_SERVER_HOME/bin/gateway.sh" ;;
  tm) script="$WSO2_SERVER_HOME/bin/traffic-manager.sh" ;;
  classic) script="$WSO2_SERVER_HOME/bin/wso2server.sh" ;;
  *) script= ;;
esac
# Written here by the Dockerfile (WSO2_STOP_ON_TERM): docker-apim 4.7's entrypoints trap SIGTERM and
# SIGINT, run `<script>.sh stop`, wait for the server to end and exit 0 whatever its status; a
# server that ends on its own leaves with its status (v4.7.0.1 apim-*/docker-entrypoint.sh, lines 57-75).
stop_on_term=false
if [ "$stop_on_term" = true ]; then
  stopping=
  trap 'stopping=1; trapped=1; echo "Stopping WSO2 gracefully..." >&2; sh "$script" stop || kill -TERM "$server" 2>/dev/null' TERM INT
  sh "$script" "$@" &
  server=$!
  # A trapped signal ends `wait` early (status > 128): wait again for the server itself. dash keeps
  # the status of a child it reaped meanwhile for the next `wait`.
  while :; do
    trapped=; status=0
    wait "$server" || status=$?
    if [ -n "$trapped" ] && [ "$status" -gt 128 ]; then continue; fi
    break
  done
  [ -n "$stopping" ] && exit 0
  exit "$status"
fi
# No exec, as docker-apim runs `sh api-manager.sh` (4.3.x) and `sh bin/api-cp.sh` and the like
# (4.5.0.9): this shell stays PID 1 and ignores SIGTERM, so `docker stop` ends a node by SIGKILL
# after the grace period, as it ends the product.
if [ -n "$script" ]; then
  sh "$script" "$@"
else
  node --max-old-space-size=192 "$WSO2_SERVER_HOME/bin/sim.js" ${PROFILE_NAME:+"-Dprofile=$PROFILE_NAME"} "$@"
fi
