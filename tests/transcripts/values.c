// Values print with their C type, taken from DWARF.
42
//> (int) 42
-7
//> (int) -7
(unsigned long)7
//> (unsigned long) 7
(unsigned char)200
//> (unsigned char) 200
(short)-3
//> (short) -3
10000000000
//> (long) 10000000000
1 == 1
//> (int) 1
(_Bool)1
//> (_Bool) true
(char)'a'
//> (char) 'a'
"hi"
//> (char[3]) "hi"
"tab\there"
//> (char[9]) "tab\there"
sizeof(long)
//> (unsigned long) 8
3 / 2
//> (int) 1
-7 / 2
//> (int) -3
-7 % 2
//> (int) -1
1u << 31
//> (unsigned int) 2147483648
(long)-1 >> 63
//> (long) -1
0x7fffffff + 1
//! values.c:36:12: warning: overflow in expression; result is -2'147'483'648 with type 'int' [-Winteger-overflow]
//!    36 | 0x7fffffff + 1
//!       | ~~~~~~~~~~~^~~
//! error: undefined behaviour: signed integer overflow
//!   #0 <input 18> at values.c:36:12
