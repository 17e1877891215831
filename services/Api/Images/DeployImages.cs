using System.Text.Json;
using System.Text.Json.Nodes;
using Modal.Api.Contracts.Images;
using Modal.Api.Domain;
using Modal.Contracts.Images;

namespace Modal.Api.Images;

/// <summary>
/// At deploy: each function's image must be built already (a deploy builds its images first, <c>POST /v1/images</c>);
/// its root file system blob and settings are written into the stored manifest (<c>imageRoot</c>), which is what
/// runners get. What a client put there itself is replaced.
/// </summary>
public static class DeployImages
{
    public static async Task<Dictionary<string, string[]>> ResolveAsync(
        ImageStore store, Guid workspaceId, List<(FunctionSignature Signature, string Json)> manifests)
    {
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < manifests.Count; i++)
        {
            var (signature, json) = manifests[i];
            var node = JsonNode.Parse(json)!.AsObject();
            node.Remove("imageRoot");
            ImageRootSpec? root = null;
            if (signature.Image is { } image)
            {
                if (ImageKeys.Error(image) is { } error)
                {
                    errors[$"functions.{signature.Name}.image"] = [error];
                    continue;
                }
                var layers = await store.GetLayersAsync(workspaceId, [image.Id]);
                if (layers[0] is not { } last)
                {
                    errors[$"functions.{signature.Name}.image"] =
                        [$"Image {image.Id[..12]} is not built: build it first (POST /v1/images; `modal deploy` does)."];
                    continue;
                }
                root = new ImageRootSpec { ImageId = image.Id, RootBlob = last.RootBlob, Env = last.Env, Workdir = last.Workdir };
                node["imageRoot"] = JsonSerializer.SerializeToNode(root, FunctionSignature.Json);
            }
            manifests[i] = (signature with { ImageRoot = root }, node.ToJsonString());
        }
        return errors;
    }
}
