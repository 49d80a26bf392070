"""What was done, and feedback to the plan's owners the next working day."""
