import FableCLI

// The executable is only this: every command lives in FableCLI so tests can run them in-process.
Fable.main()
