namespace SdBlazor.Web.Models.Downloads;

/// <summary>The Hub's base URL and token; the token goes only to the Hub's own host (scheme, host and port).</summary>
public sealed class HubEndpoint(ModelManagerOptions options)
{
    public Uri BaseUri { get; } = new(options.ResolveHubEndpoint() + "/");
    public string? Token { get; } = options.ResolveHubToken();

    public bool MayReceiveToken(Uri url) => Token is not null && Uri.Compare(url, BaseUri, UriComponents.SchemeAndServer, UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) == 0;

    public Uri RepoInfo(string repo, string revision) => new(BaseUri, $"api/models/{repo}/revision/{Uri.EscapeDataString(revision)}?blobs=true");

    /// <summary>huggingface_hub's <c>hf_hub_url</c>: <c>{endpoint}/{repo}/resolve/{revision}/{file}</c>, revision fully escaped, the file's path kept.</summary>
    public Uri Resolve(string repo, string revision, string file) =>
        new(BaseUri, $"{repo}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}");
}
