namespace SdBlazor.Web.Sharing;

public static class SharingCommandLine
{
    /// <summary>
    /// <c>--lan</c> is a bare switch, which the configuration command line does not understand (it would swallow
    /// the next argument as its value): rewrite it to <c>--Sharing:LanMode=true</c>.
    /// </summary>
    public static string[] Normalize(string[] args) =>
        [.. args.Select(a => string.Equals(a, "--lan", StringComparison.OrdinalIgnoreCase) ? "--Sharing:LanMode=true" : a)];
}
