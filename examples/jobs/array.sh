#!/bin/bash
#SBATCH --job-name=sweep
#SBATCH --array=1-8%4
#SBATCH --time=00:02:00
#CHESS --mem=512M
echo "task ${SLURM_ARRAY_TASK_ID} of ${SLURM_ARRAY_JOB_ID}"
sleep 5
