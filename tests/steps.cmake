# The tutorial steps (examples/step-*), each run on a small problem with its output checked.
if(NEUROPS_BUILD_EXAMPLES)
  neurops_add_example_test(NAME example_step-01 PROGRAM step-01_train_an_operator
                           ARGS -step_samples 32 -step_epochs 2)
  set_tests_properties(example_step-01 PROPERTIES PASS_REGULAR_EXPRESSION "test relative L2 error after 2 epochs: [0-9.e+-]+")
  neurops_add_example_test(NAME example_step-02 PROGRAM step-02_checkpoint_and_load ARGS -step_epochs 4)
  set_tests_properties(example_step-02 PROPERTIES
                       PASS_REGULAR_EXPRESSION "resumed after epoch 2.*loaded MgNO2d: 1 -> 1 channels, trained on a \\(32, 32\\) grid.*test relative L2 error of best.h5")
  neurops_add_example_test(NAME example_step-03 PROGRAM step-03_train_with_mpi MPI_RANKS 2 ARGS -step_epochs 2)
  set_tests_properties(example_step-03 PROPERTIES LABELS "example;mpi"
                       PASS_REGULAR_EXPRESSION "made on 2 ranks.*2 epochs on 2 ranks.*test relative L2 error of best.h5")
endif()
