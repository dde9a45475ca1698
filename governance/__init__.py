"""Control plane: routing configuration, validation and the compiled snapshot the data plane serves from."""
