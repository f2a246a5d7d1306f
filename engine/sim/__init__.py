"""The simulated Zircon system: kernel objects and pages, programs, scenarios, pressure."""
