namespace SdBlazor.Engine.Randomness;

/// <summary>
/// The 32-bit Mersenne Twister exactly as <c>at::mt19937</c> (and <c>std::mt19937</c>) runs it.
/// torch seeds it with the low 32 bits of the 64-bit manual seed.
/// </summary>
internal sealed class Mt19937
{
    private const int N = 624;
    private const int M = 397;
    private const uint MatrixA = 0x9908b0df;
    private const uint UpperMask = 0x80000000;
    private const uint LowerMask = 0x7fffffff;

    private readonly uint[] _state = new uint[N];
    private int _next;

    public Mt19937(ulong seed)
    {
        _state[0] = (uint)(seed & 0xffffffff);
        for (var j = 1; j < N; j++)
        {
            _state[j] = 1812433253u * (_state[j - 1] ^ (_state[j - 1] >> 30)) + (uint)j;
        }
        _next = N;
    }

    public uint NextUInt32()
    {
        if (_next >= N) Twist();
        var y = _state[_next++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >> 18;
        return y;
    }

    private void Twist()
    {
        for (var i = 0; i < N; i++)
        {
            var y = (_state[i] & UpperMask) | (_state[(i + 1) % N] & LowerMask);
            var v = _state[(i + M) % N] ^ (y >> 1);
            if ((y & 1) != 0) v ^= MatrixA;
            _state[i] = v;
        }
        _next = 0;
    }
}
