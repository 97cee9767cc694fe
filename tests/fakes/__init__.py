"""In-process fakes of the remote services the broadcast system talks to."""
