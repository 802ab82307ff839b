using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace SdBlazor.Web.Sharing.Auth;

/// <summary>
/// HTTP Basic sends the password with every request (A1111 clients poll /progress every second), and each check
/// costs a PBKDF2 hash (~65 ms of CPU). A successful check is remembered for <see cref="Lifetime"/> under an HMAC of
/// name and password with a key that lives only in this process: never the password, nothing usable after a
/// restart. An entry counts only while the account still has the same password hash, so a password change ends it.
/// </summary>
public sealed class VerifiedCredentials(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(2);
    private const int MaxEntries = 1024;
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    private sealed record Entry(string AccountId, string PasswordHash, DateTime ExpiresUtc);

    public string KeyOf(string user, string password) =>
        Convert.ToHexString(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(user + "\n" + password)));

    /// <summary>The account id verified under this key, if still fresh and the password hash has not changed since.</summary>
    public string? Find(string key, Func<string, string?> currentPasswordHash)
    {
        if (!_entries.TryGetValue(key, out var entry)) return null;
        if (entry.ExpiresUtc > time.GetUtcNow().UtcDateTime && currentPasswordHash(entry.AccountId) == entry.PasswordHash) return entry.AccountId;
        _entries.TryRemove(key, out _);
        return null;
    }

    public void Remember(string key, string accountId, string passwordHash)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (_entries.Count >= MaxEntries)
            foreach (var (k, e) in _entries)
                if (e.ExpiresUtc <= now) _entries.TryRemove(k, out _);
        // Only correct passwords get here, so the cap is reached only by many real clients: then the cache just stops growing.
        if (_entries.Count < MaxEntries) _entries[key] = new Entry(accountId, passwordHash, now + Lifetime);
    }
}
