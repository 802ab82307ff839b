using System.Text.Json;

namespace SdBlazor.Web.Sharing.Lan;

/// <summary>
/// The owner's last choice on the sharing page, kept as <c>lan.json</c> in the data folder so that LAN mode switched
/// on in the UI is still on after a restart. <c>Sharing:LanMode</c> / <c>--lan</c> turn it on at start regardless.
/// </summary>
public static class LanPreference
{
    public const string FileName = "lan.json";

    private sealed record Stored(bool LanMode);

    public static bool Load(string dataPath)
    {
        var file = Path.Combine(dataPath, FileName);
        if (!File.Exists(file)) return false;
        try
        {
            return JsonSerializer.Deserialize<Stored>(File.ReadAllText(file))?.LanMode ?? false;
        }
        catch (JsonException)
        {
            // A damaged file must not open the machine to the network: treat it as "off".
            return false;
        }
    }

    public static void Save(string dataPath, bool lanMode)
    {
        var file = Path.Combine(dataPath, FileName);
        var temporary = file + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(new Stored(lanMode)));
        File.Move(temporary, file, overwrite: true);
    }
}
