using System.Net;
using System.Text.Json;
using SdBlazor.Web.Storage;

namespace SdBlazor.Web.Sharing.Lan;

/// <summary>What a page offers for the origin of share links, invites and their QR codes.</summary>
/// <param name="Candidates">The origins to choose from (one when there is no choice to make).</param>
/// <param name="Origin">The one links use now.</param>
/// <param name="OthersCanReach">False while LAN mode is off and the page is on loopback: such links open only here.</param>
/// <param name="FromRequest">True when the page was opened under a network name, which then is the origin.</param>
public sealed record LinkOriginChoice(IReadOnlyList<string> Candidates, string Origin, bool OthersCanReach, bool FromRequest);

/// <summary>
/// Where links for other devices point. The owner usually works at <c>http://127.0.0.1</c>, which a phone scanning a
/// QR code cannot open, so links use one of this machine's LAN addresses or its host name, the owner's remembered
/// choice (<see cref="FileName"/> in the data folder). A page opened under a network name (another device, or the owner
/// at <c>http://my-pc:7860</c>) keeps that name: it demonstrably reaches the app.
/// </summary>
public sealed class LinkOrigins(LanAddresses lan, DataFolder folder)
{
    public const string FileName = "link-origin.json";
    private const int MaxFileBytes = 4096;

    private sealed record Stored(string Origin);

    public LinkOriginChoice For(string pageBaseUri)
    {
        var page = new Uri(pageBaseUri);
        var pageOrigin = page.GetLeftPart(UriPartial.Authority);
        if (!LocalRequests.IsLoopbackHost(page.Host)) return new([pageOrigin], pageOrigin, true, true);
        var candidates = Candidates();
        if (candidates.Count == 0) return new([pageOrigin], pageOrigin, false, false);
        var saved = Load();
        return new(candidates, saved is not null && candidates.Contains(saved) ? saved : candidates[0], true, false);
    }

    /// <summary>This machine's addresses, then its host name (and its mDNS <c>.local</c> name), on each non-loopback port.</summary>
    public IReadOnlyList<string> Candidates()
    {
        var origins = lan.Urls().Select(u => u.TrimEnd('/')).ToList();
        var host = Dns.GetHostName();
        if (Uri.CheckHostName(host) == UriHostNameType.Dns && !LocalRequests.IsLoopbackHost(host))
        {
            string[] names = host.Contains('.') ? [host] : [host, host + ".local"];
            foreach (var binding in lan.Bindings())
            foreach (var name in names)
                origins.Add($"{binding.Scheme}://{name.ToLowerInvariant()}:{binding.Port}");
        }
        return origins.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>Remembers the owner's choice; only an origin on offer is taken, so nothing a page sends ends up in links.</summary>
    public bool Remember(string origin)
    {
        if (!Candidates().Contains(origin)) return false;
        var file = folder.File(FileName);
        File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(new Stored(origin)));
        File.Move(file + ".tmp", file, overwrite: true);
        return true;
    }

    private string? Load()
    {
        var file = new FileInfo(folder.File(FileName));
        if (!file.Exists || file.Length > MaxFileBytes) return null;
        try
        {
            return JsonSerializer.Deserialize<Stored>(File.ReadAllText(file.FullName))?.Origin;
        }
        catch (JsonException)
        {
            return null; // a damaged file falls back to the first address
        }
    }
}
