"""Regions (Regio): their gemeenten with inhabitants, their organisations, their Veilig Thuis."""
