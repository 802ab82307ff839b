using System.Net;

namespace SdBlazor.Web.Models.Downloads;

/// <summary>
/// Reads the Hub's error answers as huggingface_hub does: the <c>X-Error-Code</c> header names the problem
/// (<c>RepoNotFound</c>, <c>RevisionNotFound</c>, <c>EntryNotFound</c>, <c>GatedRepo</c>), <c>X-Error-Message</c> says more;
/// a missing repo answers 401 or 404 with <c>RepoNotFound</c> (the Hub does not tell missing from private).
/// </summary>
public static class HubErrors
{
    public static ImportFailedException From(HttpResponseMessage response, string what, string? repo, string? revision, string? file, bool hadToken)
    {
        var code = Header(response, "X-Error-Code");
        var detail = Header(response, "X-Error-Message");
        var tokenHint = hadToken ? "" : " If it is private, set a token (Models:HuggingFaceToken or HF_TOKEN).";
        var status = (int)response.StatusCode;
        return code switch
        {
            "RepoNotFound" => new($"Repository '{repo}' was not found (RepoNotFound).{tokenHint}"),
            "RevisionNotFound" => new($"Revision '{revision}' was not found in repository '{repo}' (RevisionNotFound)."),
            "EntryNotFound" => new($"File '{file}' was not found in repository '{repo}' at revision '{revision}' (EntryNotFound)."),
            "GatedRepo" => hadToken
                ? new($"Repository '{repo}' is gated and the token has no access to it (GatedRepo): accept its conditions on the repository's page with the token's account.")
                : new($"Repository '{repo}' is gated (GatedRepo): a Hugging Face token is needed (Models:HuggingFaceToken or HF_TOKEN) from an account that accepted its conditions."),
            _ when response.StatusCode == HttpStatusCode.Unauthorized => new($"{what}: the server refused access (401).{tokenHint}"),
            _ when response.StatusCode == HttpStatusCode.Forbidden => new($"{what}: access forbidden (403){(detail is null ? "" : ": " + detail)}."),
            _ when response.StatusCode == HttpStatusCode.NotFound => new($"{what}: not found (404){(detail is null ? "" : ": " + detail)}."),
            _ when status == 429 || status >= 500 => new($"{what}: the server answered {status}{(detail is null ? "" : ": " + detail)}.", retryable: true),
            _ => new($"{what}: the server answered {status}{(detail is null ? "" : ": " + detail)}."),
        };
    }

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
