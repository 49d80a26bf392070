"""Reports: what the control room, CIT or Veilig Thuis did, recorded once and read back."""
