# Tests of this area are registered here with loadstar_test(...).
