#!/bin/bash
#SBATCH --job-name=overrun
#SBATCH --time=00:00:10
# Runs past its 10-second limit: the controller ends it as TIMEOUT.
sleep 120
