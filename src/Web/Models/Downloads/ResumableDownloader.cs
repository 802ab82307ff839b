using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace SdBlazor.Web.Models.Downloads;

/// <summary>
/// Fetches one file into a <c>.part</c> file that grows across dropped connections and restarts (HTTP Range from the
/// bytes already on disk), hashing as it goes, and checks the SHA-256 against every expectation (request, Hub listing,
/// <c>X-Linked-Etag</c>) before the caller renames it. A file that can never be right (wrong hash, too long) is deleted;
/// a short or dropped one is kept for the next try. Redirects are followed by hand so that the Hub token never travels
/// to another host (storage redirects are presigned).
/// </summary>
public sealed class ResumableDownloader(HttpClient http, HubEndpoint hub, ModelManagerOptions options, ILogger logger)
{
    private const int BufferSize = 1 << 20;
    private const long DiskCheckEvery = 64L << 20;
    private const int MaxRedirects = 10;

    public async Task<DownloadResult> DownloadAsync(DownloadTarget target, string partPath, Action<long, long?> progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(partPath)!);
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            var have = await HashExistingAsync(partPath, hash, cancellationToken);
            long? total = target.ExpectedSize;
            progress(have, total);
            string? linkedSha = null, commit = null;
            var failures = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (total is { } known && have > known) Restart();
                if (total is { } complete && have == complete && have > 0) break;
                try
                {
                    var (response, first) = await SendAsync(target.Url, have, cancellationToken);
                    using (response)
                    {
                        linkedSha ??= first.LinkedSha256;
                        commit ??= first.RepoCommit;
                        if (first.LinkedSize is { } linkedSize)
                        {
                            if (total is { } expected && expected != linkedSize)
                                throw new ImportFailedException($"{target.Label}: the server announces {linkedSize} bytes, {expected} were expected.");
                            total = linkedSize;
                        }
                        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
                        {
                            // Asked for bytes past the end: complete when the file is exactly as long as the server's.
                            var length = response.Content.Headers.ContentRange?.Length;
                            if (length == have) { total = have; break; }
                            Restart();
                            continue;
                        }
                        if (!response.IsSuccessStatusCode) throw HubErrors.From(response, target.Label, null, null, null, hub.Token is not null);
                        if (response.StatusCode == HttpStatusCode.OK && have > 0)
                        {
                            logger.LogInformation("{File}: the server ignored the Range request; downloading from the start", target.Label);
                            Restart();
                        }
                        if (response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From != have)
                            throw new ImportFailedException($"{target.Label}: the server answered another range than asked for.", retryable: true);
                        var announced = response.StatusCode == HttpStatusCode.PartialContent
                            ? response.Content.Headers.ContentRange?.Length
                            : response.Content.Headers.ContentLength;
                        if (announced is { } a && total is { } t && a != t)
                            throw new ImportFailedException($"{target.Label}: the server announces {a} bytes, {t} were expected.");
                        total ??= announced;
                        CheckDiskSpace(partPath, (total ?? have) - have);

                        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                        await using var file = new FileStream(partPath, FileMode.Append, FileAccess.Write, FileShare.Read, 1, useAsync: true);
                        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
                        try
                        {
                            long sinceDiskCheck = 0;
                            while (true)
                            {
                                var read = await ReadAsync(body, buffer, target.Label, cancellationToken);
                                if (read == 0) break;
                                if (total is { } limit && have + read > limit)
                                {
                                    await file.DisposeAsync();
                                    File.Delete(partPath);
                                    throw new ImportFailedException($"{target.Label}: the server sent more than the {limit} bytes it announced; the partial file was deleted.");
                                }
                                try
                                {
                                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                                }
                                catch (IOException ex) when (ImportFailedException.IsDiskFull(ex))
                                {
                                    // Kept: once space is freed, Retry resumes from what reached the disk (the file's own length, re-hashed).
                                    throw new ImportFailedException($"{target.Label}: the disk of the download folder is full. The {have} bytes downloaded so far are kept; " +
                                        "free some space and press Retry to resume, or Cancel to delete them.", inner: ex, keepDownload: true);
                                }
                                catch (IOException ex)
                                {
                                    throw new ImportFailedException($"{target.Label}: writing the download failed ({ex.Message}); {have} bytes are kept to resume from.", inner: ex, keepDownload: true);
                                }
                                hash.AppendData(buffer, 0, read);
                                have += read;
                                failures = 0;
                                progress(have, total);
                                if ((sinceDiskCheck += read) >= DiskCheckEvery)
                                {
                                    sinceDiskCheck = 0;
                                    await file.FlushAsync(cancellationToken);
                                    CheckDiskSpace(partPath, (total ?? have) - have);
                                }
                            }
                        }
                        finally
                        {
                            ArrayPool<byte>.Shared.Return(buffer);
                        }
                        await file.FlushAsync(cancellationToken);
                        if (total is { } announcedTotal && have < announcedTotal)
                            throw new ImportFailedException($"{target.Label}: the server sent fewer bytes than announced ({have} of {announcedTotal}).", retryable: true);
                        total ??= have;
                        break;
                    }
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsRetryable(ex))
                {
                    failures++;
                    if (failures > options.MaxRetries)
                        throw new ImportFailedException($"{Describe(ex, target.Label)} Gave up after {options.MaxRetries} retries; the {have} bytes downloaded are kept and a retry resumes from there.", retryable: true, inner: ex);
                    var delay = TimeSpan.FromMilliseconds(Math.Min(60_000, options.RetryDelayMilliseconds * Math.Pow(2, failures - 1)));
                    logger.LogWarning("{File}: {Problem}; retry {Try} of {Max} in {Delay} from byte {Offset}", target.Label, Describe(ex, target.Label), failures, options.MaxRetries, delay, have);
                    await Task.Delay(delay, cancellationToken);
                }
            }

            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            foreach (var (expected, from) in new[] { (target.ExpectedSha256, "expected"), (linkedSha, "announced by the server") })
            {
                if (expected is null || string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase)) continue;
                File.Delete(partPath);
                throw new ImportFailedException($"{target.Label}: SHA-256 mismatch: {from} {expected}, downloaded {actual}. The file was deleted.");
            }
            return new DownloadResult(actual, have, commit);

            void Restart()
            {
                File.Delete(partPath);
                hash.Dispose();
                hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                have = 0;
                progress(0, total);
            }
        }
        finally
        {
            hash.Dispose();
        }
    }

    private async Task<int> ReadAsync(Stream body, byte[] buffer, string label, CancellationToken cancellationToken)
    {
        using var stalled = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stalled.CancelAfter(TimeSpan.FromSeconds(options.ReadTimeoutSeconds));
        try
        {
            return await body.ReadAsync(buffer.AsMemory(0, BufferSize), stalled.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ImportFailedException($"{label}: no data for {options.ReadTimeoutSeconds} s.", retryable: true);
        }
    }

    private async Task<(HttpResponseMessage Response, FirstHop First)> SendAsync(Uri url, long from, CancellationToken cancellationToken)
    {
        var current = url;
        FirstHop? first = null;
        for (var hop = 0; hop <= MaxRedirects; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            if (from > 0) request.Headers.Range = new RangeHeaderValue(from, null);
            // Byte ranges and hashes are of the stored bytes: no transfer compression.
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
            if (hub.MayReceiveToken(current)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", hub.Token);
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            first ??= FirstHop.From(response);
            if ((int)response.StatusCode is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
            {
                var next = new Uri(current, location);
                response.Dispose();
                if (next.Scheme != Uri.UriSchemeHttps && (next.Scheme != Uri.UriSchemeHttp || current.Scheme == Uri.UriSchemeHttps))
                    throw new ImportFailedException($"Refusing a redirect from {current.GetLeftPart(UriPartial.Authority)} to {next.Scheme}://{next.Authority}.");
                current = next;
                continue;
            }
            return (response, first);
        }
        throw new ImportFailedException($"Too many redirects from {url.GetLeftPart(UriPartial.Path)}.");
    }

    private void CheckDiskSpace(string path, long stillNeeded)
    {
        long free;
        try
        {
            free = new DriveInfo(Path.GetDirectoryName(path)!).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return;
        }
        if (free - Math.Max(0, stillNeeded) < options.MinFreeDiskBytes)
            throw new ImportFailedException($"Not enough disk space: {Math.Max(0, stillNeeded) >> 20} MiB still to download, {free >> 20} MiB free, {options.MinFreeDiskBytes >> 20} MiB kept free (Models:MinFreeDiskBytes). The partial download is kept.", keepDownload: true);
    }

    private static async Task<long> HashExistingAsync(string partPath, IncrementalHash hash, CancellationToken cancellationToken)
    {
        if (!File.Exists(partPath)) return 0;
        await using var stream = new FileStream(partPath, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long total = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                total += read;
            }
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool IsRetryable(Exception ex) => ex switch
    {
        ImportFailedException failed => failed.Retryable,
        HttpRequestException or IOException => true,
        TaskCanceledException => true, // HttpClient's own timeout
        _ => false,
    };

    private static string Describe(Exception ex, string label) => ex is ImportFailedException ? ex.Message : $"{label}: connection problem ({ex.Message}).";

    private sealed record FirstHop(string? LinkedSha256, long? LinkedSize, string? RepoCommit)
    {
        public static FirstHop From(HttpResponseMessage response)
        {
            var etag = HubErrors.Header(response, "X-Linked-Etag")?.Replace("W/", "", StringComparison.Ordinal).Trim('"');
            var size = long.TryParse(HubErrors.Header(response, "X-Linked-Size"), out var s) && s >= 0 ? s : (long?)null;
            // For LFS files the linked ETag is the SHA-256 of the content; anything else (a git blob id) cannot be checked here.
            var sha = etag is { Length: 64 } && etag.All(Uri.IsHexDigit) ? etag.ToLowerInvariant() : null;
            return new FirstHop(sha, size, HubErrors.Header(response, "X-Repo-Commit"));
        }
    }
}
