namespace Modal.Api.Web;

/// <summary>The ingress's own answers are RFC 7807 problem details, as the Api's are.</summary>
public static class WebProblems
{
    public static Task WriteAsync(HttpContext context, int status, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail, extensions: extensions).ExecuteAsync(context);
}
