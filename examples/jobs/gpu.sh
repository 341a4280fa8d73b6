#!/bin/bash
#SBATCH --job-name=train
#SBATCH --partition=gpu
#SBATCH --gres=gpu:2
#SBATCH --cpus-per-task=6
#SBATCH --time=00:15:00
# Two GPUs and six cores: the scheduler gives the cores of the NUMA domain the GPUs hang off.
echo "GPUs: CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES} (${CUDA_DEVICE_ORDER}) on ${SLURMD_NODENAME}"
echo "bound to NUMA domain ${CHESS_JOB_NUMA}, cores ${CHESS_JOB_CORES}"
grep -E '^(Cpus|Mems)_allowed_list' /proc/self/status
sleep 5
