using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using SdBlazor.Web.Sharing;

namespace SdBlazor.Web.Models;

/// <summary>
/// Import progress for clients outside the Blazor page (which gets the same changes in-process): every connection
/// receives <c>ImportChanged</c> with the import as <c>GET /api/models/import/{id}</c> shows it. Members see imports, as they see the list.
/// </summary>
[Authorize(Policy = SharingPolicies.Member)]
public sealed class ImportProgressHub(ImportStore store) : Hub
{
    public const string Path = "/hubs/models";
    public const string ImportChanged = "ImportChanged";

    /// <summary>The imports now (newest first); changes from here on arrive as <c>ImportChanged</c>.</summary>
    [Authorize(Policy = SharingPolicies.Member)]
    public IReadOnlyList<ModelManagerEndpoints.ImportDto> Imports() => store.List().Select(ModelManagerEndpoints.ImportDto.From).ToList();
}

/// <summary>
/// Forwards <see cref="ImportStore"/> changes to <see cref="ImportProgressHub"/>. Progress arrives per megabyte: the
/// latest state of each import is sent at most every <see cref="Interval"/> (the final state always, being the latest),
/// on one task, so a slow connection never holds a download back.
/// </summary>
public sealed class ImportProgressBroadcaster(ImportStore store, IHubContext<ImportProgressHub> hub, ILogger<ImportProgressBroadcaster> logger) : IHostedService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    private readonly object _gate = new();
    private readonly Dictionary<string, ModelImport> _pending = new(StringComparer.Ordinal);
    private bool _pumping;
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = store.Subscribe(OnChanged);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _subscription?.Dispose();
        return Task.CompletedTask;
    }

    private void OnChanged(ModelImport import)
    {
        lock (_gate)
        {
            _pending[import.Id] = import;
            if (_pumping) return;
            _pumping = true;
        }
        _ = Task.Run(PumpAsync);
    }

    private async Task PumpAsync()
    {
        while (true)
        {
            List<ModelImport> batch;
            lock (_gate)
            {
                if (_pending.Count == 0)
                {
                    _pumping = false;
                    return;
                }
                batch = [.. _pending.Values];
                _pending.Clear();
            }
            foreach (var import in batch)
            {
                try
                {
                    await hub.Clients.All.SendAsync(ImportProgressHub.ImportChanged, ModelManagerEndpoints.ImportDto.From(import));
                }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "Import {Id}: pushing its progress failed", import.Id);
                }
            }
            await Task.Delay(Interval);
        }
    }
}
