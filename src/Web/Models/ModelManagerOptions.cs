namespace SdBlazor.Web.Models;

/// <summary>The <c>Models</c> configuration section: imports from local paths, URLs and the Hugging Face Hub.</summary>
public sealed class ModelManagerOptions
{
    public const string Section = "Models";
    public const string DefaultHubEndpoint = "https://huggingface.co";

    /// <summary>How many imports download at once; the rest wait in order.</summary>
    public int ImportParallelism { get; set; } = 1;

    /// <summary>Empty: the <c>HF_ENDPOINT</c> environment variable (as huggingface_hub honours it), else https://huggingface.co.</summary>
    public string HuggingFaceEndpoint { get; set; } = "";

    /// <summary>Empty: the <c>HF_TOKEN</c> environment variable. Sent as a Bearer token to the Hub only (never to a storage host it redirects to).</summary>
    public string HuggingFaceToken { get; set; } = "";

    /// <summary>Where partial downloads wait until verified. Empty: <c>downloads/</c> in the data folder. Also an import root.</summary>
    public string DownloadPath { get; set; } = "";

    /// <summary>Folders local imports may read from, in addition to the models folder and the download folder.</summary>
    public List<string> ImportRoots { get; set; } = [];

    /// <summary>Plain <c>http://</c> URL sources (off: only <c>https://</c>); for a LAN mirror or tests.</summary>
    public bool AllowHttpUrls { get; set; }

    public string ImportsFile { get; set; } = "imports.db";

    /// <summary>Retries of a download that fails without progress (dropped connection, short body, 5xx), with doubling delays from <see cref="RetryDelayMilliseconds"/>.</summary>
    public int MaxRetries { get; set; } = 5;

    public int RetryDelayMilliseconds { get; set; } = 1000;

    /// <summary>A read that gets no byte for this long counts as a dropped connection.</summary>
    public int ReadTimeoutSeconds { get; set; } = 60;

    /// <summary>Free disk space kept beyond the download, checked before and every 64 MiB during a download.</summary>
    public long MinFreeDiskBytes { get; set; } = 512L << 20;

    public string ResolveHubEndpoint()
    {
        var configured = !string.IsNullOrWhiteSpace(HuggingFaceEndpoint) ? HuggingFaceEndpoint : Environment.GetEnvironmentVariable("HF_ENDPOINT");
        return (string.IsNullOrWhiteSpace(configured) ? DefaultHubEndpoint : configured.Trim()).TrimEnd('/');
    }

    public string? ResolveHubToken()
    {
        var token = !string.IsNullOrWhiteSpace(HuggingFaceToken) ? HuggingFaceToken : Environment.GetEnvironmentVariable("HF_TOKEN");
        return string.IsNullOrWhiteSpace(token) ? null : token.Trim();
    }
}
