using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace SdBlazor.Web.Sharing.Accounts;

/// <summary>Where a login attempt comes from: the client's address key and whether it is this machine's browser or script.</summary>
public readonly record struct LoginOrigin(string Address, bool IsLocal)
{
    public static LoginOrigin Of(HttpContext http) => new(ClientAddresses.Key(http), LocalRequests.IsLocal(http));
}

/// <summary>
/// Slows password guessing without handing anyone a way to lock the owner out or to learn which names exist:
/// <list type="bullet">
/// <item>per user name, existing or not (an unknown name is throttled exactly like a real one): after
/// <see cref="SharingOptions.MaxFailedLogins"/> wrong passwords in a row, each further one locks the name for
/// <see cref="SharingOptions.LoginDelaySeconds"/> × 2^(n − max), at most <see cref="SharingOptions.LockoutMinutes"/>;</item>
/// <item>this machine counts apart from everyone else, so guesses from the LAN never lock out the owner at the
/// console (or a local script);</item>
/// <item>per client address (IPv6: per /64), a budget of password checks per minute, so a flood of guesses costs
/// no more than that many hash computations.</item>
/// </list>
/// Kept in memory: a restart forgets it, which only an administrator of this machine can cause.
/// </summary>
public sealed class LoginThrottle : IDisposable
{
    private const int MaxTrackedNames = 10_000;
    private readonly IOptions<SharingOptions> _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Entry> _names = new(StringComparer.Ordinal);
    private readonly PartitionedRateLimiter<string> _checksPerAddress;

    public LoginThrottle(IOptions<SharingOptions> options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _checksPerAddress = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address, _ =>
            new FixedWindowRateLimiterOptions { PermitLimit = options.Value.LoginAttemptsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
    }

    private sealed class Entry
    {
        public int Failures;
        public DateTime LockedUntilUtc;
        public DateTime LastFailureUtc;
    }

    private DateTime Now => _time.GetUtcNow().UtcDateTime;

    private static string Key(string normalizedName, bool local) => (local ? "local:" : "remote:") + normalizedName;

    /// <summary>Until when this name may not try again from this side, or null.</summary>
    public DateTime? LockedUntil(string normalizedName, bool local) =>
        _names.TryGetValue(Key(normalizedName, local), out var entry) && entry.LockedUntilUtc > Now ? entry.LockedUntilUtc : null;

    /// <summary>Takes one password check from the address's budget; false when it is spent for this minute.</summary>
    public bool TryTakeCheck(string address)
    {
        using var lease = _checksPerAddress.AttemptAcquire(address);
        return lease.IsAcquired;
    }

    /// <summary>Counts a wrong password; returns the end of the lock this caused, if any.</summary>
    public DateTime? Failed(string normalizedName, bool local)
    {
        if (_names.Count >= MaxTrackedNames) Prune();
        var entry = _names.GetOrAdd(Key(normalizedName, local), _ => new Entry());
        var options = _options.Value;
        var now = Now;
        lock (entry)
        {
            // A quiet spell as long as the longest lock forgives the earlier failures.
            if (now - entry.LastFailureUtc > TimeSpan.FromMinutes(options.LockoutMinutes) && entry.LockedUntilUtc <= now) entry.Failures = 0;
            entry.Failures++;
            entry.LastFailureUtc = now;
            var beyond = entry.Failures - options.MaxFailedLogins;
            if (beyond < 0) return null;
            var delay = TimeSpan.FromSeconds(Math.Min(options.LoginDelaySeconds * Math.Pow(2, Math.Min(beyond, 30)), options.LockoutMinutes * 60.0));
            entry.LockedUntilUtc = now + delay;
            return entry.LockedUntilUtc;
        }
    }

    public void Succeeded(string normalizedName, bool local) => _names.TryRemove(Key(normalizedName, local), out _);

    /// <summary>Drops names whose failures no longer count; when an attacker keeps that many fresh, the oldest
    /// unlocked ones go (a lock is never dropped early).</summary>
    private void Prune()
    {
        var now = Now;
        var forget = TimeSpan.FromMinutes(_options.Value.LockoutMinutes);
        foreach (var (key, entry) in _names)
            if (entry.LockedUntilUtc <= now && now - entry.LastFailureUtc > forget) _names.TryRemove(key, out _);
        if (_names.Count < MaxTrackedNames) return;
        foreach (var (key, _) in _names.Where(p => p.Value.LockedUntilUtc <= now).OrderBy(p => p.Value.LastFailureUtc).Take(MaxTrackedNames / 2)) _names.TryRemove(key, out _);
    }

    public void Dispose() => _checksPerAddress.Dispose();
}
