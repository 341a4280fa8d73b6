#!/bin/bash
#SBATCH --job-name=train
#SBATCH --partition=gpu
#SBATCH --gres=gpu:a100:2
#SBATCH --cpus-per-task=8
#SBATCH --time=00:15:00
echo "GPUs: ${CUDA_VISIBLE_DEVICES}"
sleep 30
