using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SdBlazor.Web.Models.Downloads;

/// <summary>One file of a repo as the Hub lists it (<c>siblings</c> with <c>blobs=true</c>): LFS files carry their SHA-256 and size.</summary>
public sealed record HubFile(string Path, long? Size, string? Sha256);

/// <summary>A repo at one commit: what <c>GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true</c> answers.</summary>
public sealed record HubRepo(string Id, string Commit, IReadOnlyList<HubFile> Files, string? License);

/// <summary>The Hub's model info API, read as huggingface_hub's <c>model_info(..., files_metadata=True)</c> does.</summary>
public sealed class HubRepository(HttpClient http, HubEndpoint hub)
{
    public const int MaxInfoBytes = 16 << 20;

    public async Task<HubRepo> GetAsync(string repo, string revision, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, hub.RepoInfo(repo, revision));
        if (hub.Token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", hub.Token);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new ImportFailedException($"The Hub at {hub.BaseUri} cannot be reached: {ex.Message}", retryable: true, inner: ex);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode) throw HubErrors.From(response, $"Repository '{repo}'", repo, revision, null, hub.Token is not null);
            if (response.Content.Headers.ContentLength > MaxInfoBytes) throw new ImportFailedException($"Repository '{repo}': the Hub's file list is too large.");
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            ModelInfo? info;
            try
            {
                info = await JsonSerializer.DeserializeAsync<ModelInfo>(new LimitedStream(body, MaxInfoBytes), cancellationToken: cancellationToken);
            }
            catch (JsonException ex)
            {
                throw new ImportFailedException($"Repository '{repo}': the Hub's answer is not the expected JSON ({ex.Message}).");
            }
            if (info?.Siblings is null) throw new ImportFailedException($"Repository '{repo}': the Hub's answer lists no files.");
            var files = info.Siblings.Where(s => s.Name is not null)
                .Select(s => new HubFile(s.Name!, s.Lfs?.Size ?? s.Size, s.Lfs?.Sha256 is { Length: 64 } sha ? sha.ToLowerInvariant() : null))
                .ToList();
            var license = info.CardData is { ValueKind: JsonValueKind.Object } card && card.TryGetProperty("license", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null;
            return new HubRepo(info.Id ?? repo, info.Sha ?? revision, files, license);
        }
    }

    private sealed class ModelInfo
    {
        [JsonPropertyName("id")] public string? Id { get; set; }
        [JsonPropertyName("sha")] public string? Sha { get; set; }
        [JsonPropertyName("siblings")] public List<Sibling>? Siblings { get; set; }
        [JsonPropertyName("cardData")] public JsonElement CardData { get; set; }
    }

    private sealed class Sibling
    {
        [JsonPropertyName("rfilename")] public string? Name { get; set; }
        [JsonPropertyName("size")] public long? Size { get; set; }
        [JsonPropertyName("lfs")] public Lfs? Lfs { get; set; }
    }

    private sealed class Lfs
    {
        [JsonPropertyName("sha256")] public string? Sha256 { get; set; }
        [JsonPropertyName("size")] public long? Size { get; set; }
    }

    /// <summary>Stops reading after a limit, so that a hostile server cannot make us buffer without end.</summary>
    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => Count(await inner.ReadAsync(buffer, cancellationToken));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int read)
        {
            _read += read;
            if (_read > limit) throw new ImportFailedException($"The Hub's answer is larger than {limit >> 20} MiB.");
            return read;
        }
    }
}
