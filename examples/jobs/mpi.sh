#!/bin/bash
#SBATCH --job-name=mpi-like
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=8
#SBATCH --mem-per-cpu=1G
#SBATCH --time=00:10:00
#SBATCH --constraint=ib
echo "nodes: ${SLURM_JOB_NODELIST}"
# A job step: one task on each node (srun, as in Slurm; docs/srun.md).
srun -l --ntasks-per-node=1 bash -c 'echo "task $SLURM_PROCID of $SLURM_NTASKS on $SLURMD_NODENAME"'
sleep 20
