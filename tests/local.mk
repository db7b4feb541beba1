# Plugin ABI tests, test plugins and whole-daemon tests.
