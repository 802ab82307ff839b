using Microsoft.Extensions.Options;

namespace SdBlazor.Web.Gallery;

/// <summary>
/// Start-up work in the background so the UI is never blocked: reconcile index and files, then empty trash
/// older than <see cref="GalleryOptions.TrashRetentionDays"/>.
/// </summary>
public sealed class GalleryStartup(GalleryMaintenance maintenance, GalleryStore store, IOptions<GalleryOptions> options, ILogger<GalleryStartup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        if (!options.Value.ReconcileOnStartup) return;
        try
        {
            var report = await Task.Run(() => maintenance.Reconcile(stoppingToken), stoppingToken);
            logger.LogInformation("Gallery reconciled in {Elapsed}: {Files} files, {Indexed} newly indexed, {Missing} missing, {Unreadable} unreadable",
                report.Elapsed, report.FilesOnDisk, report.Indexed, report.MarkedMissing, report.Unreadable);

            if (options.Value.TrashRetentionDays > 0)
            {
                var purged = store.EmptyTrash(DateTime.UtcNow.AddDays(-options.Value.TrashRetentionDays));
                if (purged > 0) logger.LogInformation("Gallery trash: {Count} images older than {Days} days deleted", purged, options.Value.TrashRetentionDays);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // A failed reconciliation must not take the app down; the gallery still serves what is indexed.
            logger.LogError(ex, "Gallery reconciliation failed");
        }
    }
}
