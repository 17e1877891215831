using System.Runtime.CompilerServices;

// VolumeDirectory was this assembly's until it moved to Modal.Volumes.Sync (shared with the runner, which must not
// reference the SDK); code compiled against the SDK before the move still finds it here.
[assembly: TypeForwardedTo(typeof(Modal.Volumes.VolumeDirectory))]
