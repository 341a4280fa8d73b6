#!/bin/bash
#SBATCH --job-name=mpi-like
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=8
#SBATCH --mem-per-cpu=1G
#SBATCH --time=00:10:00
#SBATCH --constraint=ib
echo "nodes: ${SLURM_JOB_NODELIST}"
sleep 20
