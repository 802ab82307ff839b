using LiteDB;
using Microsoft.Extensions.Options;
using SdBlazor.Web.Storage;

namespace SdBlazor.Web.Models;

/// <summary>
/// Imports persisted in their own LiteDB file of the data folder (like the queue), so that an import interrupted by a
/// restart is found again with its id. Every change is also pushed in-process to subscribers (the model manager page's
/// circuits, and <see cref="ImportProgressBroadcaster"/> for SignalR clients).
/// </summary>
public sealed class ImportStore : IDisposable
{
    private readonly LiteDatabase _database;
    private readonly ILiteCollection<ModelImport> _imports;
    private readonly object _gate = new();
    private event Action<ModelImport>? Changed;

    public ImportStore(DataFolder dataFolder, IOptions<ModelManagerOptions> options)
    {
        // Our own mapper: BsonMapper.Global is not safe when two hosts start at once (tests).
        var mapper = new BsonMapper { EmptyStringToNull = false };
        mapper.Entity<ModelImport>().Id(i => i.Id, autoId: false).Ignore(i => i.IsFinished).Ignore(i => i.Progress);
        _database = new LiteDatabase(new ConnectionString { Filename = dataFolder.File(options.Value.ImportsFile), Connection = ConnectionType.Direct }, mapper);
        _imports = _database.GetCollection<ModelImport>("imports");
    }

    public ModelImport? Get(string id)
    {
        lock (_gate) return _imports.FindById(id);
    }

    public IReadOnlyList<ModelImport> List()
    {
        lock (_gate) return _imports.FindAll().OrderByDescending(i => i.CreatedUtc).ToList();
    }

    public void Add(ModelImport import)
    {
        lock (_gate) _imports.Insert(import);
        Changed?.Invoke(import.Copy());
    }

    /// <summary>Applies <paramref name="change"/> to the stored import and saves it; null when the id is unknown.</summary>
    public ModelImport? Update(string id, Action<ModelImport> change)
    {
        ModelImport? import;
        lock (_gate)
        {
            import = _imports.FindById(id);
            if (import is null) return null;
            change(import);
            _imports.Update(import);
        }
        Changed?.Invoke(import.Copy());
        return import;
    }

    /// <summary>Progress only: pushed to subscribers, saved only now and then by the caller (see <see cref="ImportRunner"/>).</summary>
    public void Notify(ModelImport import) => Changed?.Invoke(import.Copy());

    public IDisposable Subscribe(Action<ModelImport> handler)
    {
        Changed += handler;
        return new Subscription(() => Changed -= handler);
    }

    public void Dispose() => _database.Dispose();

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private Action? _dispose = dispose;
        public void Dispose() => Interlocked.Exchange(ref _dispose, null)?.Invoke();
    }
}
