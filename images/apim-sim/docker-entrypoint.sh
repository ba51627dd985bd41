#!/bin/sh
# Same contract as docker-apim's entrypoint: overlay the mounted config and artifact volumes onto
# the product home, then start the server with the profile named by PROFILE_NAME.
set -e
config_volume=/home/wso2carbon/wso2-config-volume
artifact_volume=/home/wso2carbon/wso2-artifact-volume
[ -d "$config_volume" ] && [ -n "$(ls -A "$config_volume" 2>/dev/null)" ] && cp -RL "$config_volume"/* "$WSO2_SERVER_HOME"/
[ -d "$artifact_volume" ] && [ -n "$(ls -A "$artifact_volume" 2>/dev/null)" ] && cp -RL "$artifact_volume"/* "$WSO2_SERVER_HOME"/
# No exec, as docker-apim 4.3.x runs `sh api-manager.sh`: this shell stays PID 1 and ignores
# SIGTERM, so `docker stop` ends a node by SIGKILL after the grace period, as it ends the product.
node --max-old-space-size=192 "$WSO2_SERVER_HOME/bin/sim.js" ${PROFILE_NAME:+"-Dprofile=$PROFILE_NAME"} "$@"
