/* C interface of the sorbandit preconditioner, for C programs and for scripts that reach the library
 * through a foreign-function interface (petsc4py + ctypes: pc.handle is the PC pointer):
 *
 *   lib = ctypes.CDLL("libneurops.so")
 *   omega = ctypes.c_double()
 *   lib.NeuropsPCSorBanditGetOmega(ctypes.c_void_p(pc.handle), ctypes.byref(omega))
 *
 * Every function returns a PetscErrorCode: 0 on success; PETSC_ERR_ARG_WRONG for a PC of another type
 * or a null pointer, PETSC_ERR_ORDER before the learner exists (before the PC's first set-up). */
#ifndef NEUROPS_SOLVERS_SORBANDIT_C_H
#define NEUROPS_SOLVERS_SORBANDIT_C_H

#include <petscpc.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The omega of the last (or current) solve. */
PetscErrorCode NeuropsPCSorBanditGetOmega(PC pc, double* omega);
/** Solves the learner has seen (carried over from a state file it continued from). */
PetscErrorCode NeuropsPCSorBanditGetRounds(PC pc, int64_t* rounds);
/** The learner's summary (pulls and mean cost per arm, most played omega) as NUL-terminated text,
 * cut to len - 1 characters; *needed (when not null) receives the full length without the NUL. */
PetscErrorCode NeuropsPCSorBanditGetSummary(PC pc, char* buffer, size_t len, size_t* needed);

#ifdef __cplusplus
}
#endif

#endif
