using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using SdBlazor.Web.Models.Downloads;

namespace SdBlazor.Web.Models;

/// <summary>
/// Runs imports in order, <c>Models:ImportParallelism</c> at a time. On start it takes up every import a previous run
/// left queued or running (same id; the download resumes from the bytes on disk). A stop of the app leaves a running
/// import as running, so that it resumes; a user's cancel ends it and deletes what it downloaded. A failed import keeps
/// its bytes only when a Retry can resume from them (a dropped connection, a full disk); cancelling it deletes them.
/// Staging folders no import will resume from (a crash between steps, an old version's leftovers) are deleted at start.
/// </summary>
public sealed class ImportWorker(ImportStore store, ImportRunner runner, IOptions<ModelManagerOptions> options, ILogger<ImportWorker> logger) : BackgroundService
{
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>();
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new();

    public void Enqueue(string id) => _queue.Writer.TryWrite(id);

    /// <summary>Cancels a queued or running import, or discards the bytes a failed one kept; false when the id is unknown.</summary>
    public bool Cancel(string id)
    {
        var import = store.Update(id, i =>
        {
            if (i.State is ImportState.Queued or ImportState.Failed) Finish(i, ImportState.Cancelled, "Cancelled.");
        });
        if (import is null) return false;
        if (_running.TryGetValue(id, out var cancel)) cancel.Cancel();
        if (import.State == ImportState.Cancelled) runner.Discard(import);
        return true;
    }

    /// <summary>Queues a failed or cancelled import again under its id; a download that failed for want of a connection resumes from its bytes.</summary>
    public bool Retry(string id)
    {
        var requeued = false;
        var import = store.Update(id, i =>
        {
            if (i.State is not (ImportState.Failed or ImportState.Cancelled)) return;
            i.State = ImportState.Queued;
            i.Error = null;
            i.FinishedUtc = null;
            requeued = true;
        });
        if (requeued) Enqueue(id);
        return import is not null;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        RemoveAbandonedStaging();
        foreach (var import in store.List().Where(i => i.State is ImportState.Queued or ImportState.Running).OrderBy(i => i.CreatedUtc))
        {
            if (import.State == ImportState.Running) logger.LogInformation("Resuming import {Id} ({Name}) from {Bytes} bytes", import.Id, import.Name, import.Bytes);
            store.Update(import.Id, i => i.State = ImportState.Queued);
            Enqueue(import.Id);
        }
        var workers = Enumerable.Range(0, Math.Max(1, options.Value.ImportParallelism)).Select(_ => ConsumeAsync(stoppingToken));
        await Task.WhenAll(workers);
    }

    private async Task ConsumeAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var id in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await RunOneAsync(id, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // Recording the outcome failed too (the import database on a full disk): the worker must outlive it,
                    // an exception leaving ExecuteAsync would stop the host.
                    logger.LogError(ex, "Import {Id}: its outcome could not be recorded", id);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunOneAsync(string id, CancellationToken stoppingToken)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        _running[id] = cancel;
        try
        {
            // Claimed only when still queued: a cancel may have come first.
            var claimed = false;
            var import = store.Update(id, i =>
            {
                if (i.State != ImportState.Queued) return;
                i.State = ImportState.Running;
                i.Error = null;
                claimed = true;
            });
            if (import is null || !claimed) return;
            try
            {
                await runner.RunAsync(import, cancel.Token);
                store.Update(id, i => { Finish(i, ImportState.Done, null); i.Bytes = Math.Max(i.Bytes, i.Total); i.Total = i.Bytes; });
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                logger.LogInformation("Import {Id} interrupted by shutdown at {Bytes} bytes; it resumes on the next start", id, import.Bytes);
                store.Update(id, i => i.Bytes = import.Bytes);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                runner.Discard(import);
                store.Update(id, i => Finish(i, ImportState.Cancelled, "Cancelled."));
            }
            catch (ImportFailedException ex)
            {
                logger.LogWarning("Import {Id} ({Name}) failed: {Problem}", id, import.Name, ex.Message);
                // A download that only lacked a working connection keeps its bytes for a retry; anything else cannot become valid.
                if (!ex.KeepsDownload) runner.Discard(import);
                store.Update(id, i => Finish(i, ImportState.Failed, ex.Message));
            }
            catch (Exception ex)
            {
                // Whatever went wrong, the worker carries on with the next import (an escaping exception would stop the host).
                logger.LogError(ex, "Import {Id} ({Name}) failed", id, import.Name);
                store.Update(id, i => Finish(i, ImportState.Failed, ex.Message));
            }
        }
        finally
        {
            _running.TryRemove(id, out _);
        }
    }

    private void RemoveAbandonedStaging()
    {
        var resumable = store.List().Where(i => i.State is ImportState.Queued or ImportState.Running or ImportState.Failed).Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var folder in runner.StagingFolders())
        {
            if (resumable.Contains(Path.GetFileName(folder))) continue;
            logger.LogInformation("Removing the abandoned download folder {Folder}", folder);
            ImportRunner.TryDelete(folder);
        }
    }

    private static void Finish(ModelImport import, ImportState state, string? error)
    {
        import.State = state;
        import.Error = error;
        import.FinishedUtc = DateTime.UtcNow;
    }
}
