"""HTTP server: a self-hosted drop-in for the hosted Faceswap V2 API."""
