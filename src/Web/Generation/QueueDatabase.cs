using LiteDB;
using Microsoft.Extensions.Options;
using SdBlazor.Web.Storage;

namespace SdBlazor.Web.Generation;

/// <summary>Owns the one shared <see cref="LiteDatabase"/> of the queue file; disposed with the host, which releases the file lock.</summary>
public sealed class QueueDatabase : IDisposable
{
    public QueueDatabase(DataFolder dataFolder, IOptions<GenerationOptions> options)
    {
        FilePath = dataFolder.File(options.Value.QueueFile);
        // Our own mapper: BsonMapper.Global builds entity maps lazily and is not safe when two hosts start at once.
        var mapper = new BsonMapper();
        mapper.Entity<Job>().Id(j => j.Id, autoId: false);
        Database = new LiteDatabase(new ConnectionString { Filename = FilePath, Connection = ConnectionType.Direct }, mapper);
    }

    public string FilePath { get; }
    public LiteDatabase Database { get; }

    public void Dispose() => Database.Dispose();
}
