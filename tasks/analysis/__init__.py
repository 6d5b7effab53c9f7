"""Analysis steps: output schemas the prompts declare, and the pure helpers steps share."""
