#!/bin/bash
#SBATCH --job-name=hello
#SBATCH --ntasks=1
#SBATCH --time=00:05:00
#SBATCH --output=hello-%j.out
echo "hello from $(hostname) as job ${CHESS_JOB_ID:-$SLURM_JOB_ID}"
