#!/bin/bash
#SBATCH --job-name=overrun
#SBATCH --time=1
# Runs past its one-minute limit (Slurm's time limits are whole minutes): the controller ends it
# as TIMEOUT.
sleep 120
