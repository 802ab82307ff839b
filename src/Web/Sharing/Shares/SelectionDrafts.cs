using System.Collections.Concurrent;

namespace SdBlazor.Web.Sharing.Shares;

/// <summary>
/// Hands a gallery selection to the share page without putting the ids in a URL (thousands of ids overflow the
/// request line): the gallery leaves them here under a random key and opens <c>/shares?selection={key}</c>. A draft
/// is readable only by the account that left it and only for <see cref="Lifetime"/>; the ids are checked again when
/// the link is made.
/// </summary>
public sealed class SelectionDrafts(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(30);
    private const int MaxDrafts = 256;
    private readonly ConcurrentDictionary<string, Draft> _drafts = new();

    private sealed record Draft(string Account, IReadOnlyList<string> Ids, DateTimeOffset ExpiresAt);

    public string Put(string account, IReadOnlyCollection<string> ids)
    {
        if (ids.Count > ShareStore.MaxImagesPerSelection) throw new ShareException($"At most {ShareStore.MaxImagesPerSelection} images per link.");
        Prune();
        var key = Guid.NewGuid().ToString("N");
        _drafts[key] = new Draft(account, [.. ids], time.GetUtcNow() + Lifetime);
        return key;
    }

    /// <summary>The ids left under <paramref name="key"/> by <paramref name="account"/>; empty when unknown, expired or someone else's.</summary>
    public IReadOnlyList<string> Take(string? key, string account) =>
        key is not null && _drafts.TryGetValue(key, out var draft) && draft.Account == account && draft.ExpiresAt > time.GetUtcNow() ? draft.Ids : [];

    private void Prune()
    {
        var now = time.GetUtcNow();
        foreach (var (key, draft) in _drafts)
            if (draft.ExpiresAt <= now) _drafts.TryRemove(key, out _);
        // Bounded even if someone keeps selecting: the oldest go first.
        foreach (var (key, _) in _drafts.OrderBy(d => d.Value.ExpiresAt).Take(Math.Max(0, _drafts.Count - MaxDrafts + 1)))
            _drafts.TryRemove(key, out _);
    }
}
