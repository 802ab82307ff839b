using SdBlazor.Web.Sharing.Accounts;

namespace SdBlazor.Web.Sharing.Lan;

/// <summary>The sharing page's LAN switch: refuses to open the app to the network before an owner password exists.</summary>
public sealed class LanModeSwitch(ListenAddresses listen, SetupGate setup, ILogger<LanModeSwitch> logger)
{
    public bool IsOn => listen.LanRequested;

    /// <summary>Null when done, else why not.</summary>
    public string? TrySet(bool on)
    {
        if (on && !setup.SetupDone)
            return "Set an owner password first: LAN mode cannot be turned on while anyone who reaches the port could claim the app.";
        listen.SetLanMode(on);
        logger.LogInformation(on ? "LAN mode turned on: listening on {Urls}" : "LAN mode turned off: listening on {Urls} only",
            string.Join(", ", listen.Urls));
        return null;
    }
}
