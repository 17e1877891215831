using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using Modal.Api.Contracts.Volumes;
using Modal.Storage.Blobs;
using Modal.Storage.Objects;
using Modal.Storage.Volumes;
using VolumeManifest = Modal.Api.Contracts.Volumes.VolumeManifest;

namespace Modal.Storage.Endpoints;

/// <summary>
/// <c>/v1/volumes</c>: Modal's Volume. Lifecycle as Dicts and Queues (plus rename); files are content-addressed blobs
/// uploaded through <c>/v1/blobs</c> and named by a commit; every change makes a new version (see <see cref="VolumeStore"/>).
/// Paths travel in the query string (<c>?path=</c>) so names with spaces and any Unicode round-trip.
/// </summary>
public static class VolumeEndpoints
{
    public static IEndpointRouteBuilder MapVolumeEndpoints(this IEndpointRouteBuilder routes)
    {
        var volumes = routes.MapObjectGroup(ObjectKind.Volume).ProducesProblem(StatusCodes.Status409Conflict);
        volumes.MapPost("/{name}/rename", RenameAsync).WithName("RenameVolume");
        volumes.MapGet("/{name}/manifest", GetManifestAsync).WithName("GetVolumeManifest");
        volumes.MapGet("/{name}/entries", ListEntriesAsync).WithName("ListVolumeEntries");
        volumes.MapGet("/{name}/file", ReadFileAsync).WithName("ReadVolumeFile")
            .ProducesProblem(StatusCodes.Status416RangeNotSatisfiable);
        volumes.MapDelete("/{name}/file", RemoveFileAsync).WithName("RemoveVolumeFile");
        volumes.MapPost("/{name}/commit", CommitAsync).WithName("CommitVolume");
        volumes.MapPost("/{name}/copy", CopyAsync).WithName("CopyVolumeFiles");
        return routes;
    }

    public static async Task<NoContent> RenameAsync(
        string name, string? to, WorkspaceScope workspace, ObjectRegistry registry, CancellationToken cancellationToken)
    {
        if (!ObjectNames.IsValidName(to))
        {
            throw new InvalidStorageRequestException("Invalid name", $"'{to}' is not a valid name: use {ObjectNames.NameRule}.");
        }
        await registry.RenameAsync(workspace.Volume(name), to!, cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<VolumeManifest>> GetManifestAsync(
        string name, WorkspaceScope workspace, VolumeStore volumes, CancellationToken cancellationToken)
    {
        var version = await volumes.GetAsync(workspace.Volume(name), cancellationToken);
        return TypedResults.Ok(new VolumeManifest(version.Id,
            version.Manifest.Files.OrderBy(f => f.Key, StringComparer.Ordinal)
                .Select(f => new VolumeFileEntry(f.Key, f.Value.Sha256, f.Value.Size, f.Value.Modified)).ToList()));
    }

    /// <summary>The files and folders in <paramref name="path"/> (everything below it with <paramref name="recursive"/>); a file lists itself.</summary>
    public static async Task<Ok<IReadOnlyList<VolumeEntry>>> ListEntriesAsync(
        string name, string? path, bool? recursive, WorkspaceScope workspace, VolumeStore volumes, CancellationToken cancellationToken)
    {
        var folder = VolumePaths.Normalize(path);
        var manifest = (await volumes.GetAsync(workspace.Volume(name), cancellationToken)).Manifest;
        if (manifest.Files.TryGetValue(folder, out var single))
        {
            return TypedResults.Ok<IReadOnlyList<VolumeEntry>>([new VolumeEntry(folder, "file", single.Size, single.Modified)]);
        }
        if (!manifest.IsFolder(folder))
        {
            throw new VolumeFileNotFoundException($"'{path}' does not exist in Volume '{name}'.");
        }
        var deep = recursive ?? false;
        var entries = new Dictionary<string, VolumeEntry>(StringComparer.Ordinal);
        foreach (var (filePath, file) in manifest.Files.Where(f => VolumePaths.IsUnder(f.Key, folder)))
        {
            var relative = folder.Length == 0 ? filePath : filePath[(folder.Length + 1)..];
            var slash = relative.IndexOf('/');
            if (slash < 0 || deep)
            {
                entries[filePath] = new VolumeEntry(filePath, "file", file.Size, file.Modified);
            }
            var subfolders = deep ? VolumePaths.Ancestors(relative) : slash < 0 ? [] : [relative[..slash]];
            foreach (var subfolder in subfolders.Select(s => VolumePaths.Join(folder, s)))
            {
                var latest = entries.TryGetValue(subfolder, out var seen) && seen.Modified > file.Modified ? seen.Modified : file.Modified;
                entries[subfolder] = new VolumeEntry(subfolder, "directory", 0, latest);
            }
        }
        return TypedResults.Ok<IReadOnlyList<VolumeEntry>>(entries.Values.OrderBy(e => e.Path, StringComparer.Ordinal).ToList());
    }

    /// <summary>Streams a file; honours one HTTP byte range (<c>Range: bytes=a-b</c>, <c>a-</c> or <c>-n</c>) with 206.</summary>
    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> ReadFileAsync(
        string name, string? path, HttpContext http, WorkspaceScope workspace, VolumeStore volumes, BlobStore blobs,
        CancellationToken cancellationToken)
    {
        var filePath = VolumePaths.Normalize(path);
        var manifest = (await volumes.GetAsync(workspace.Volume(name), cancellationToken)).Manifest;
        if (!manifest.Files.TryGetValue(filePath, out var file))
        {
            throw new VolumeFileNotFoundException(manifest.IsFolder(filePath)
                ? $"'{path}' is a folder in Volume '{name}', not a file."
                : $"'{path}' does not exist in Volume '{name}'.");
        }
        var response = http.Response;
        response.ContentType = "application/octet-stream";
        response.Headers.AcceptRanges = "bytes";
        response.Headers.ETag = $"\"{file.Sha256}\"";
        response.Headers.LastModified = file.Modified.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var range = http.Request.GetTypedHeaders().Range;
        if (range is not null && Resolve(range, file.Size) is null)
        {
            response.Headers.ContentRange = $"bytes */{file.Size}";
            return TypedResults.Problem(statusCode: StatusCodes.Status416RangeNotSatisfiable, title: "Range not satisfiable",
                detail: $"'{path}' is {file.Size} bytes; the range '{http.Request.Headers.Range}' is outside it (one range per request).");
        }
        if (blobs.ShouldRedirect(http.Request, file.Size))
        {
            // The client fetches the bytes (its Range included) from S3 itself; the blob was verified when stored.
            response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            response.Headers.Location = (await blobs.PresignedGetAsync(file.Sha256)).AbsoluteUri;
            return TypedResults.Empty;
        }
        if (range is null)
        {
            response.ContentLength = file.Size;
            await StreamAsync(blobs.CopyToAsync(file.Sha256, response.Body, cancellationToken), file);
            return TypedResults.Empty;
        }
        var (offset, length) = Resolve(range, file.Size)!.Value;
        response.StatusCode = StatusCodes.Status206PartialContent;
        response.ContentLength = length;
        response.Headers.ContentRange = $"bytes {offset}-{offset + length - 1}/{file.Size}";
        await StreamAsync(blobs.CopyRangeToAsync(file.Sha256, offset, length, response.Body, cancellationToken), file);
        return TypedResults.Empty;
    }

    public static async Task<NoContent> RemoveFileAsync(
        string name, string? path, bool? recursive, WorkspaceScope workspace, VolumeStore volumes, CancellationToken cancellationToken)
    {
        var target = VolumePaths.Normalize(path);
        if (target.Length == 0 && recursive != true)
        {
            throw new InvalidStorageRequestException("Is a folder", "The Volume's root is a folder; remove it with recursive.");
        }
        await volumes.CommitAsync(workspace.Volume(name), edit => edit.Remove(target, recursive ?? false), cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<VolumeCommitResult>> CommitAsync(
        string name, VolumeCommitRequest request, WorkspaceScope workspace, VolumeStore volumes, BlobStore blobs,
        BlobReferences references, CancellationToken cancellationToken)
    {
        var deletes = (request.Deletes ?? []).Select(VolumePaths.Normalize).ToList();
        var puts = (request.Puts ?? []).Select(p => (Path: VolumePaths.Normalize(p.Path), p.Sha256, p.Modified)).ToList();
        if (puts.FirstOrDefault(p => !BlobStore.IsValidHash(p.Sha256)) is { Sha256: not null } invalid)
        {
            throw new InvalidStorageRequestException("Invalid blob name", $"'{invalid.Sha256}' (for '{invalid.Path}') is not a SHA-256 in lowercase hex.");
        }
        // A manifest may only name content that is stored and this workspace uploaded (a hash of another workspace's
        // blob would otherwise be read back through the Volume); sizes come from storage, not from the client.
        var notHeld = (await references.MissingAsync(workspace.WorkspaceId, puts.Select(p => p.Sha256), cancellationToken)).ToHashSet(StringComparer.Ordinal);
        var sizes = await blobs.SizesAsync(puts.Select(p => p.Sha256), cancellationToken);
        if (puts.FirstOrDefault(p => notHeld.Contains(p.Sha256) || sizes[p.Sha256] is null) is { Path: not null } missing)
        {
            throw new InvalidStorageRequestException("Content not uploaded",
                $"The content of '{missing.Path}' (blob {missing.Sha256}) is not stored; upload it to /v1/blobs first.");
        }
        var now = DateTimeOffset.UtcNow;
        var version = await volumes.CommitAsync(workspace.Volume(name), edit =>
        {
            foreach (var path in deletes)
            {
                edit.Remove(path, recursive: true, missingOk: true);
            }
            foreach (var (path, hash, modified) in puts)
            {
                edit.Put(path, new VolumeFile(hash, sizes[hash]!.Value, modified ?? now), request.Force);
            }
        }, cancellationToken);
        return TypedResults.Ok(new VolumeCommitResult(version.Id, version.Manifest.Files.Count));
    }

    public static async Task<NoContent> CopyAsync(
        string name, VolumeCopyRequest request, WorkspaceScope workspace, VolumeStore volumes, CancellationToken cancellationToken)
    {
        var sources = request.Sources.Select(VolumePaths.Normalize).ToList();
        var destination = VolumePaths.Normalize(request.Destination);
        var intoFolder = request.Destination.EndsWith('/') || destination.Length == 0;
        await volumes.CommitAsync(workspace.Volume(name), edit => edit.Copy(sources, destination, intoFolder, request.Recursive), cancellationToken);
        return TypedResults.NoContent();
    }

    private static (long Offset, long Length)? Resolve(RangeHeaderValue range, long size)
    {
        if (!string.Equals(range.Unit.Value, "bytes", StringComparison.OrdinalIgnoreCase) || range.Ranges.Count != 1 || size == 0)
        {
            return null;
        }
        var only = range.Ranges.First();
        if (only.From is not { } from)
        {
            var suffix = Math.Min(only.To ?? 0, size);
            return suffix <= 0 ? null : (size - suffix, suffix);
        }
        var to = Math.Min(only.To ?? size - 1, size - 1);
        return from >= size || from > to ? null : (from, to - from + 1);
    }

    private static async Task StreamAsync(Task<bool> copying, VolumeFile file)
    {
        if (!await copying)
        {
            throw new InvalidDataException($"Blob {file.Sha256} of a Volume file is missing from storage.");
        }
    }
}
