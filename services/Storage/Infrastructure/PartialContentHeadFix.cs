using System.Net;

namespace Modal.Storage.Infrastructure;

/// <summary>
/// Minio 7.0.0 stats an object with a HEAD carrying the Range of a ranged GET and throws <c>PartialContentException</c>
/// when the server rightly answers 206 (minio-dotnet #1342, fixed after 7.0.0; see docs/notes infrastructure). Reading
/// that 206 as 200 makes ranged reads work. The request is left alone: stripping its Range would break the signature.
/// </summary>
public sealed class PartialContentHeadFix : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (request.Method == HttpMethod.Head && response.StatusCode == HttpStatusCode.PartialContent)
        {
            response.StatusCode = HttpStatusCode.OK;
        }
        return response;
    }
}
