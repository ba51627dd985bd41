#!/bin/sh
# Same contract as docker-apim's entrypoints (v4.3.0.6 wso2am; v4.5.0.9 wso2am-acp,
# wso2am-universal-gw, wso2am-tm): overlay the mounted config and artifact volumes onto the product
# home, then start the server: the all-in-one image with the profile named by PROFILE_NAME, a 4.5
# distribution with its own start script.
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
[ -d "$config_volume" ] && [ -n "$(ls -A "$config_volume" 2>/dev/null)" ] && cp -RL "$config_volume"/* "$WSO2_SERVER_HOME"/
[ -d "$artifact_volume" ] && [ -n "$(ls -A "$artifact_volume" 2>/dev/null)" ] && cp -RL "$artifact_volume"/* "$WSO2_SERVER_HOME"/
# No exec, as docker-apim runs `sh api-manager.sh` (4.3.x) and `sh bin/api-cp.sh` and the like
# (4.5.0.9): this shell stays PID 1 and ignores SIGTERM, so `docker stop` ends a node by SIGKILL
# after the grace period, as it ends the product.
case "$distribution" in
  acp) sh "$WSO2_SERVER_HOME/bin/api-cp.sh" "$@" ;;
  universal-gw) sh "$WSO2_SERVER_HOME/bin/gateway.sh" "$@" ;;
  tm) sh "$WSO2_SERVER_HOME/bin/traffic-manager.sh" "$@" ;;
  *) node --max-old-space-size=192 "$WSO2_SERVER_HOME/bin/sim.js" ${PROFILE_NAME:+"-Dprofile=$PROFILE_NAME"} "$@" ;;
esac
