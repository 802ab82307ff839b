using System.Security.Cryptography;
using LiteDB;

namespace SdBlazor.Web.Gallery;

/// <summary>
/// Image ids: ObjectIds whose timestamp is the creation time. Built by hand rather than with
/// <c>ObjectId.NewObjectId()</c> because LiteDB stores the process id as a signed short, which goes negative
/// on Linux for pids above 32767 and would make numeric and hex order disagree.
/// </summary>
public static class ImageIds
{
    private static readonly int Machine = RandomNumberGenerator.GetInt32(0, 1 << 24);
    private static readonly short Pid = (short)(Environment.ProcessId & 0x7FFF);
    private static int _increment = RandomNumberGenerator.GetInt32(0, 1 << 24);

    public static ObjectId New(DateTime createdUtc) =>
        new(Seconds(createdUtc), Machine, Pid, Interlocked.Increment(ref _increment) & 0xFFFFFF);

    /// <summary>The smallest id of a second: a bound for date ranges.</summary>
    public static ObjectId Lowest(DateTime utc) => new(Seconds(utc), 0, 0, 0);

    public static ObjectId Highest(DateTime utc) => new(Seconds(utc), 0xFFFFFF, short.MaxValue, 0xFFFFFF);

    public static bool TryParse(string? text, out ObjectId id)
    {
        id = ObjectId.Empty;
        if (text is not { Length: 24 } || !text.All(Uri.IsHexDigit)) return false;
        id = new ObjectId(text.ToLowerInvariant());
        return true;
    }

    private static int Seconds(DateTime utc) =>
        (int)Math.Clamp(new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)).ToUnixTimeSeconds(), 0, int.MaxValue);
}
