using LiteDB;
using SdBlazor.Web.Sharing.Accounts;
using SdBlazor.Web.Sharing.Auth;
using SdBlazor.Web.Sharing.Shares;
using SdBlazor.Web.Storage;

namespace SdBlazor.Web.Sharing;

/// <summary>Owns the one <see cref="LiteDatabase"/> of <c>{DataFolder}/accounts.db</c>: accounts, invites, login sessions and share links.</summary>
public sealed class SharingDatabase : IDisposable
{
    public const string FileName = "accounts.db";

    private readonly object _gate = new();

    public SharingDatabase(DataFolder dataFolder)
    {
        FilePath = dataFolder.File(FileName);
        // Own mapper: BsonMapper.Global builds entity maps lazily and is not safe when two hosts start at once.
        var mapper = new BsonMapper();
        mapper.Entity<Account>().Id(a => a.Id, autoId: false);
        mapper.Entity<Invite>().Id(i => i.TokenHash, autoId: false);
        mapper.Entity<Share>().Id(s => s.Id, autoId: false);
        mapper.Entity<LoginSession>().Id(s => s.Id, autoId: false);
        Database = new LiteDatabase(new ConnectionString { Filename = FilePath, Connection = ConnectionType.Direct }, mapper);
        Accounts = Database.GetCollection<Account>("accounts");
        Invites = Database.GetCollection<Invite>("invites");
        Shares = Database.GetCollection<Share>("shares");
        Shares.EnsureIndex(s => s.TokenHash, unique: true);
        Sessions = Database.GetCollection<LoginSession>("sessions");
        Sessions.EnsureIndex(s => s.AccountId);
    }

    public string FilePath { get; }
    public LiteDatabase Database { get; }
    public ILiteCollection<Account> Accounts { get; }
    public ILiteCollection<Invite> Invites { get; }
    public ILiteCollection<Share> Shares { get; }
    public ILiteCollection<LoginSession> Sessions { get; }

    /// <summary>Read-modify-write sequences (failed-login counters, view counts) run one at a time.</summary>
    public T Locked<T>(Func<T> action)
    {
        lock (_gate) return action();
    }

    public void Dispose() => Database.Dispose();
}
