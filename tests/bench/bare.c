/* bare - the smallest C program, linked like ossup (-lbearssl -lpthread). The bench
   takes its peak RSS as the baseline that ossup's memory is measured against. */
int main(void) {
    return 0;
}
