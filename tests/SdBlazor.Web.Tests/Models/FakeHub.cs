using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SdBlazor.Web.Tests.Models;

/// <summary>
/// A Hugging Face Hub on loopback Kestrel, speaking the parts of its API huggingface_hub uses: model info with
/// siblings (<c>/api/models/{repo}/revision/{rev}?blobs=true</c>), <c>resolve</c> URLs answering with
/// <c>X-Repo-Commit</c>/<c>X-Linked-Etag</c>/<c>X-Linked-Size</c> and a redirect to a storage host (another authority:
/// <c>localhost</c> instead of <c>127.0.0.1</c>), errors as <c>X-Error-Code</c>. Storage serves byte ranges and can
/// misbehave on purpose: drop the connection after N bytes, send wrong bytes once, go slowly.
/// </summary>
public sealed class FakeHub : IAsyncDisposable
{
    public const string Token = "hf_test_token";
    private readonly WebApplication _app;

    public sealed class Repo
    {
        public Dictionary<string, byte[]> Files { get; } = new(StringComparer.Ordinal);
        public string Commit { get; init; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        public bool Gated { get; init; }
        public string? License { get; init; }
    }

    public sealed record Request(string Path, string? Range, bool HadAuthorization);

    public ConcurrentDictionary<string, Repo> Repos { get; } = new(StringComparer.Ordinal);
    public ConcurrentQueue<Request> Requests { get; } = new();

    /// <summary>The next storage response for this sha256 closes the connection after this many bytes (once).</summary>
    public ConcurrentDictionary<string, long> DropAfter { get; } = new();

    /// <summary>The next storage response for this sha256 sends other bytes of the same length (once).</summary>
    public ConcurrentDictionary<string, bool> CorruptOnce { get; } = new();

    /// <summary>Storage bytes per second (0: as fast as possible), in 16 KiB chunks.</summary>
    public long BytesPerSecond { get; set; }

    private FakeHub(WebApplication app) => _app = app;

    public Uri Endpoint { get; private set; } = null!;

    public static async Task<FakeHub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var hub = new FakeHub(app);
        app.MapGet("/api/models/{owner}/{name}/revision/{revision}", (string owner, string name, string revision, HttpContext http) => hub.Info($"{owner}/{name}", revision, http));
        app.MapGet("/{owner}/{name}/resolve/{revision}/{**file}", (string owner, string name, string revision, string file, HttpContext http) => hub.Resolve($"{owner}/{name}", revision, file, http));
        app.MapGet("/storage/{sha}", (string sha, HttpContext http) => hub.ServeAsync(sha, http));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        hub.Endpoint = new Uri(address);
        return hub;
    }

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public Repo Add(string id, Repo repo) => Repos[id] = repo;

    public IEnumerable<Request> StorageRequests => Requests.Where(r => r.Path.StartsWith("/storage/", StringComparison.Ordinal));

    private IResult Info(string repoId, string revision, HttpContext http)
    {
        Record(http);
        if (!Repos.TryGetValue(repoId, out var repo)) return Error(http, 401, "RepoNotFound", "Repository not found");
        if (revision != "main" && revision != repo.Commit) return Error(http, 404, "RevisionNotFound", "Invalid rev id: " + revision);
        var siblings = repo.Files.Select(f => IsLfs(f.Key)
            ? (object)new { rfilename = f.Key, size = f.Value.LongLength, lfs = new { sha256 = Sha256(f.Value), size = f.Value.LongLength, pointerSize = 134 } }
            : new { rfilename = f.Key, size = f.Value.LongLength });
        return Results.Json(new { id = repoId, sha = repo.Commit, gated = repo.Gated ? "auto" : (object)false, siblings,
            cardData = repo.License is null ? null : new { license = repo.License } });
    }

    private IResult Resolve(string repoId, string revision, string file, HttpContext http)
    {
        Record(http);
        if (!Repos.TryGetValue(repoId, out var repo)) return Error(http, 401, "RepoNotFound", "Repository not found");
        if (repo.Gated && http.Request.Headers.Authorization != $"Bearer {Token}")
            return Error(http, 401, "GatedRepo", $"Access to model {repoId} is restricted. You must have access to it and be authenticated to access it.");
        if (revision != "main" && revision != repo.Commit) return Error(http, 404, "RevisionNotFound", "Invalid rev id: " + revision);
        if (!repo.Files.TryGetValue(file, out var data)) return Error(http, 404, "EntryNotFound", $"{file} does not exist on \"{revision}\"");
        var sha = Sha256(data);
        http.Response.Headers["X-Repo-Commit"] = repo.Commit;
        if (!IsLfs(file)) return Results.Bytes(data, "application/octet-stream");
        http.Response.Headers["X-Linked-Etag"] = $"\"{sha}\"";
        http.Response.Headers["X-Linked-Size"] = data.LongLength.ToString(System.Globalization.CultureInfo.InvariantCulture);
        http.Response.Headers.ETag = $"\"{sha}\"";
        _blobs[sha] = data;
        // The storage host is another authority, as on the real Hub (a CDN): the client must not send the token there.
        return Results.Redirect($"http://localhost:{Endpoint.Port}/storage/{sha}?X-Amz-Signature=fake");
    }

    private readonly ConcurrentDictionary<string, byte[]> _blobs = new();

    private async Task ServeAsync(string sha, HttpContext http)
    {
        Record(http);
        if (!_blobs.TryGetValue(sha, out var data))
        {
            http.Response.StatusCode = 404;
            return;
        }
        long from = 0;
        var range = http.Request.Headers.Range.ToString();
        if (range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-') && long.TryParse(range[6..^1], out var start))
        {
            if (start >= data.LongLength)
            {
                http.Response.StatusCode = 416;
                http.Response.Headers.ContentRange = $"bytes */{data.LongLength}";
                return;
            }
            from = start;
            http.Response.StatusCode = 206;
            http.Response.Headers.ContentRange = $"bytes {from}-{data.LongLength - 1}/{data.LongLength}";
        }
        http.Response.ContentLength = data.LongLength - from;
        var body = data;
        if (CorruptOnce.TryRemove(sha, out _))
        {
            body = (byte[])data.Clone();
            body[^1] ^= 0xff;
        }
        long? dropAt = DropAfter.TryRemove(sha, out var n) ? n : null;
        var position = from;
        const int chunk = 16 * 1024;
        while (position < body.LongLength)
        {
            var count = (int)Math.Min(chunk, body.LongLength - position);
            if (dropAt is { } drop && position + count > drop)
            {
                await http.Response.Body.WriteAsync(body.AsMemory((int)position, (int)Math.Max(0, drop - position)));
                await http.Response.Body.FlushAsync();
                http.Abort();
                return;
            }
            await http.Response.Body.WriteAsync(body.AsMemory((int)position, count));
            position += count;
            if (BytesPerSecond > 0)
            {
                await http.Response.Body.FlushAsync();
                await Task.Delay(TimeSpan.FromSeconds((double)count / BytesPerSecond), http.RequestAborted).ContinueWith(_ => { });
                if (http.RequestAborted.IsCancellationRequested) return;
            }
        }
    }

    private void Record(HttpContext http) =>
        Requests.Enqueue(new Request(http.Request.Path.Value!, http.Request.Headers.Range.Count > 0 ? http.Request.Headers.Range.ToString() : null,
            http.Request.Headers.Authorization.Count > 0));

    private static bool IsLfs(string file) => !file.EndsWith(".json", StringComparison.Ordinal) && !file.EndsWith(".txt", StringComparison.Ordinal) && !file.EndsWith(".md", StringComparison.Ordinal);

    private static IResult Error(HttpContext http, int status, string code, string message)
    {
        http.Response.Headers["X-Error-Code"] = code;
        http.Response.Headers["X-Error-Message"] = message;
        return Results.Json(new { error = message }, statusCode: status);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
