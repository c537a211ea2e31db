# solvers/ and pde/linear_systems: SOR/SSOR-PCG, bandit tuners, the sorbandit PC, system files.
neurops_add_test(NAME test_solvers
                 SOURCES solvers/fixture.cpp solvers/test_linear_systems.cpp solvers/test_sor.cpp
                         solvers/test_bandits.cpp solvers/test_petsc_types.cpp
                 LABELS unit)
